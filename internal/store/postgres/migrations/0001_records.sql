-- One table holds every record; see internal/store/store.go.
-- Every text column uses the "C" collation: byte order, the same as Go's
-- string order and SQLite's BINARY collation, so ORDER BY key and the
-- prefix ranges behave identically on both drivers whatever the database's
-- locale.
CREATE TABLE records (
    account TEXT COLLATE "C" NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE "C" NOT NULL,
    id      TEXT COLLATE "C" NOT NULL DEFAULT '',
    parent  TEXT COLLATE "C" NOT NULL DEFAULT '',
    ref     TEXT COLLATE "C" NOT NULL DEFAULT '',
    path    TEXT COLLATE "C" NOT NULL DEFAULT '',
    data    BYTEA       NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    updated TIMESTAMPTZ NOT NULL,
    version BIGINT      NOT NULL,
    PRIMARY KEY (account, kind, key)
);

-- IDs are unique within a kind across accounts; records without one are exempt.
CREATE UNIQUE INDEX records_kind_id ON records (kind, id) WHERE id <> '';
CREATE INDEX records_parent ON records (account, kind, parent, key);
CREATE INDEX records_ref    ON records (account, kind, ref, key);
CREATE INDEX records_path   ON records (account, kind, path, key);
