"""Batch scoring of saved responses (`ketscreen score`) and response templates.

Modules, in the order data flows through them:

- `formats`: the input and output formats (str-Enums) and the batch errors;
- `readers`: find inputs, read CSV headers, cut streams into jobs of whole records;
- `jobs`: parse a job's records and score them (in this process or a worker);
- `engine`: the questionnaire compiled into lookup tables, equal to `score()`;
- `writers`: CSV, JSON Lines and JSON output;
- `runner`: jobs -> ordered output, atomic files, the summary;
- `template`: blank records to fill in by hand.
"""
