"""`python -m ketscreen` runs the command-line interface."""

from ketscreen.cli import main

if __name__ == "__main__":
    main()
