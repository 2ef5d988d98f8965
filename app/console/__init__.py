"""The staff console's page templates and how they show times, waits and deadlines."""
