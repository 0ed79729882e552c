-- One table holds every record; see internal/store/store.go.
-- Times are Unix microseconds (UTC), matching PostgreSQL's precision.
-- TEXT compares with the BINARY collation (memcmp), so ORDER BY key is byte
-- order, the same as Go's string order and PostgreSQL's "C" collation.
CREATE TABLE records (
    account TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    id      TEXT    NOT NULL DEFAULT '',
    parent  TEXT    NOT NULL DEFAULT '',
    ref     TEXT    NOT NULL DEFAULT '',
    path    TEXT    NOT NULL DEFAULT '',
    data    BLOB    NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (account, kind, key)
);

-- IDs are unique within a kind across accounts; records without one are exempt.
CREATE UNIQUE INDEX records_kind_id ON records (kind, id) WHERE id <> '';
CREATE INDEX records_parent ON records (account, kind, parent, key);
CREATE INDEX records_ref    ON records (account, kind, ref, key);
CREATE INDEX records_path   ON records (account, kind, path, key);
