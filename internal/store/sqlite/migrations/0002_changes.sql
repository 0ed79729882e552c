-- Change log for notifications across processes sharing the file (an admin
-- command next to a running server): every write transaction appends one row
-- per changed account; each Store polls for rows other stores wrote. Rows
-- older than an hour are pruned.
CREATE TABLE changes (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    origin  TEXT    NOT NULL, -- the writing Store instance
    account TEXT    NOT NULL,
    at      INTEGER NOT NULL  -- Unix seconds
);
CREATE INDEX changes_at ON changes (at);
