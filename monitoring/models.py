# Validation runs, artifacts, metrics and drift results arrive with their issues.
