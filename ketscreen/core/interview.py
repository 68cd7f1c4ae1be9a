"""The interview as a pure state machine: which question is next, answers, going back.

Used by the person-at-a-terminal screener and by counselor intake; it knows nothing of
screens or files. Answers are normalised with the shared normaliser. Changing an
answer re-applies skip logic at once and drops answers to questions no longer asked;
the dropped answers are kept aside for the rest of the interview, so that changing the
answer back brings them back (as a form filler does). `would_drop` says beforehand what
a change would drop, so a screen can ask first.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from ketscreen.core.conditions import Answer, Context
from ketscreen.core.model import DECLINED, Item, Questionnaire
from ketscreen.core.normalize import Answers, normalize_answer, normalize_answers
from ketscreen.core.scoring import Flag, Result, asked_items, raised_flags, score


class Interview:
    """Walks a questionnaire one question at a time.

    `cursor` is the index of the current question in `questions()`; it equals
    `len(questions())` when every question has been passed (the review point).
    """

    def __init__(self, questionnaire: Questionnaire, answers: Mapping[str, object] | None = None):
        self.questionnaire = questionnaire
        self.answers: Answers = normalize_answers(questionnaire, answers or {})
        self._kept: Answers = {}  # answers dropped by skip logic, restored if asked again
        self._prune()
        self._kept.clear()  # answers given from outside that do not apply are not kept
        self._restored: tuple[str, ...] = ()
        self.cursor = self.first_unanswered()

    # -- reading ---------------------------------------------------------------------

    def questions(self) -> tuple[str, ...]:
        """The item ids asked given the answers so far, in order."""
        return asked_items(self.questionnaire, self.answers)

    def first_unanswered(self) -> int:
        """Index of the first asked question with no answer (declined counts as answered)."""
        questions = self.questions()
        for index, item_id in enumerate(questions):
            if item_id not in self.answers:
                return index
        return len(questions)

    @property
    def current(self) -> Item | None:
        questions = self.questions()
        if self.cursor >= len(questions):
            return None
        return self.questionnaire.items[questions[self.cursor]]

    @property
    def position(self) -> tuple[int, int]:
        """(n, N) for "Question n of N", n counted from 1."""
        questions = self.questions()
        return min(self.cursor + 1, len(questions)), len(questions)

    @property
    def finished(self) -> bool:
        return self.cursor >= len(self.questions())

    def answer_of(self, item_id: str) -> Answer | None:
        return self.answers.get(item_id)

    def expected_total(self) -> tuple[int, bool]:
        """(N, exact) for "Question n of N" before every skip rule is settled.

        `questions()` only counts what the answers so far open up, so before the first
        answer it would say "1 of 2" and then jump to "2 of 30". This counts, as well, each
        question whose skip rule looks at a question not yet answered; `exact` is False
        while any such question remains ("of up to N").
        """
        asked = set(self.questions())
        open_ids: set[str] = set()
        total = 0
        exact = True
        for item in self.questionnaire.items.values():
            if item.id in asked:
                total += 1
                if item.id not in self.answers:
                    open_ids.add(item.id)
            elif item.enable_when is not None and item.enable_when.items() & open_ids:
                total += 1
                exact = False
                open_ids.add(item.id)
        return total, exact

    def flags(self) -> tuple[Flag, ...]:
        """The flags the answers so far raise, most urgent first, as `score` raises them.

        Unlike `result()` this works mid-interview (a required item may still be open),
        so a crisis answer can be acted on before the next question.
        """
        given = {k: v for k, v in self.answers.items() if v != DECLINED}
        return raised_flags(self.questionnaire, Context(given))

    # -- changing --------------------------------------------------------------------

    def answer(self, value: object) -> list[str]:
        """Answer the current question and move on. Returns ids of answers dropped."""
        item = self.current
        if item is None:
            raise IndexError("no current question")
        return self._set(item, value, advance=True)

    def decline(self) -> list[str]:
        """Answer the current question with "prefer not to say" (where allowed)."""
        return self.answer(DECLINED)

    def change(self, item_id: str, value: object) -> list[str]:
        """Change the answer to an earlier question (from a review screen); cursor stays."""
        item = self.questionnaire.items[item_id]
        if item_id not in self.questions():
            raise KeyError(f"{item_id} is not asked with the current answers")
        return self._set(item, value, advance=False)

    def would_drop(self, item_id: str, value: object) -> list[str]:
        """The ids of answers that answering `item_id` with `value` would drop."""
        trial = copy.copy(self)  # the same questionnaire; its own answers and kept answers
        trial.answers = dict(self.answers)
        trial._kept = dict(self._kept)
        return trial._set(self.questionnaire.items[item_id], value, advance=False)

    @property
    def restored(self) -> tuple[str, ...]:
        """Ids of the answers the last answer or change brought back."""
        return self._restored

    def back(self) -> bool:
        """Go to the previous question. False when already at the first."""
        if self.cursor == 0:
            return False
        self.cursor -= 1
        return True

    def go_to(self, item_id: str) -> None:
        self.cursor = self.questions().index(item_id)

    def resume_point(self) -> None:
        """Move the cursor to the first unanswered question (or the end)."""
        self.cursor = self.first_unanswered()

    def result(self, *, scored_at: str | None = None) -> Result:
        return score(self.questionnaire, self.answers, scored_at=scored_at)

    # -- internals -------------------------------------------------------------------

    def _set(self, item: Item, value: object, *, advance: bool) -> list[str]:
        normal = normalize_answer(item, value)
        self._kept.pop(item.id, None)
        if normal is None:
            self.answers.pop(item.id, None)
        else:
            self.answers[item.id] = normal
        dropped = self._prune()
        restored: list[str] = []
        while back := self._restore():
            restored.extend(back)
            dropped.extend(self._prune())  # a restored answer can close other questions
        self._restored = tuple(i for i in restored if i in self.answers)
        dropped = [i for i in dropped if i not in self.answers]
        if advance:
            questions = self.questions()
            self.cursor = questions.index(item.id) + 1
        else:
            self.cursor = min(self.cursor, len(self.questions()))
        return dropped

    def _prune(self) -> list[str]:
        """Drop answers to questions that are no longer asked; repeat until stable."""
        dropped: list[str] = []
        while True:
            asked = set(self.questions())
            stale = [item_id for item_id in self.answers if item_id not in asked]
            if not stale:
                return dropped
            for item_id in stale:
                self._kept[item_id] = self.answers.pop(item_id)
            dropped.extend(stale)

    def _restore(self) -> list[str]:
        """Bring back kept answers to questions that are asked again (in question order)."""
        for item_id in self.questions():
            if item_id not in self.answers and item_id in self._kept:
                self.answers[item_id] = self._kept.pop(item_id)
                return [item_id]  # one at a time: it may open or close later questions
        return []
