"""Korean date formats with 오전/오후 and the zone (PST/PDT) wherever Django writes a date
(admin lists and read-only fields). Requests run in the store's zone (dorami.storetime)."""

DATE_FORMAT = "Y년 n월 j일"
TIME_FORMAT = "A g:i T"
DATETIME_FORMAT = "Y년 n월 j일 A g:i T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d A g:i T"
