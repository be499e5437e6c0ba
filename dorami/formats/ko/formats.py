"""Korean date formats with 오전/오후 and the zone (PST/PDT) wherever Django writes a date
(admin lists and read-only fields). Requests run in the store's zone (dorami.storetime)."""

DATE_FORMAT = "Y. n. j."
TIME_FORMAT = "A g:i T"
DATETIME_FORMAT = "Y. n. j. A g:i T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d A g:i T"
