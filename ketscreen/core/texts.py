"""Fixed wording shared by every screen, report and export (CONTENT.md section 7)."""

from __future__ import annotations

DISCLAIMER = (
    "This is a screening tool, not a diagnosis. Only a trained professional can diagnose "
    "a substance use problem. Bring your result to a doctor or counselor to start that "
    "conversation."
)
STOP_ANY_TIME = "If at any point you feel distressed, you can stop."
