"""Processors: the stages between the poll loops and the sinks, working on whole batches.

Today: report by exception (which readings are worth storing). Calculated tags come later.
"""
