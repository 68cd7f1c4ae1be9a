"""Rendering for people: Rich screens, plain-text screens, listings and reports."""
