"""The evaluator: versioned protocol, resumable parallel runs, statistics, tables and plots."""
