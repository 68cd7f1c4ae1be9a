"""The core: questionnaire model, safe loading, conditions, normalisation and scoring.

No Typer, no Rich and no file paths here: data in, data out.
"""
