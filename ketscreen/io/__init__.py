"""Files and streams: questionnaires, resources, sessions, batch readers and writers."""
