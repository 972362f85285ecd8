"""The closed lists of values the product itself defines, each written once.

Field checks, the template's drop-downs, the data dictionary, the Launchpad's choices,
the CLI and the status logic all take their values from here. (Lists a project
declares, its phases and event types, live in its folder instead.)
"""

from __future__ import annotations

# How far a good practice has been worked on, in order.
PRACTICE_STAGES = ("identified", "analysed", "structured")
MEASURE_STATUSES = ("planned", "in_progress", "implemented")
FORMATS = ("in_person", "online", "hybrid")
SEVERITIES = ("error", "warning")
INDICATOR_TYPES = ("output", "result", "context")

# A workbook version's outcome.
ACCEPTED, REJECTED = "accepted", "rejected"
SUBMISSION_STATUSES = (ACCEPTED, REJECTED)
# A file that vanished or changed while read: read again next run, never recorded.
RETRY = "retry"

# A partner-period's one status (pipelines.core.state.completeness decides it).
ON_TIME = "on_time"
LATE = "late"
MISSING = "missing"
NOT_EXPECTED = "not_expected"
NOT_YET_DUE = "not_yet_due"
COMPLETENESS_STATUSES = (ON_TIME, LATE, REJECTED, MISSING, NOT_EXPECTED, NOT_YET_DUE)

# The coordinator's review: the decisions and the statuses they lead to.
APPROVE, SEND_BACK, REOPEN = "approve", "send_back", "reopen"
REVIEW_DECISIONS = (APPROVE, SEND_BACK, REOPEN)
PENDING, APPROVED, SENT_BACK, REOPENED = "pending", "approved", "sent_back", "reopened"
REVIEW_STATUSES = (PENDING, APPROVED, SENT_BACK, REOPENED)
