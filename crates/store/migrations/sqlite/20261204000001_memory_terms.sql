-- The translation memory's fuzzy index becomes a word index (see crates/store/src/memory/terms.rs
-- for why): `terms` holds the keys of an entry's distinct terms as a JSON array (NULL: not yet
-- indexed; the store indexes such entries when it opens, see `index_pending_terms`), and
-- triggers keep the postings and each term's document frequency from it. The FTS5 trigram
-- index it replaces is dropped (`secure_delete` zeroes its freed pages).

DROP TRIGGER memory_fts_insert;
DROP TRIGGER memory_fts_delete;
DROP TRIGGER memory_fts_update;
DROP TABLE memory_fts;

ALTER TABLE memory_entries ADD COLUMN terms TEXT;
CREATE INDEX memory_unindexed ON memory_entries (id) WHERE terms IS NULL;

CREATE TABLE memory_postings (
    term_key INTEGER NOT NULL,
    entry_id INTEGER NOT NULL,
    PRIMARY KEY (term_key, entry_id)
) WITHOUT ROWID;

CREATE TABLE memory_term_df (
    term_key INTEGER PRIMARY KEY,
    df       INTEGER NOT NULL
);

CREATE TRIGGER memory_terms_insert AFTER INSERT ON memory_entries WHEN new.terms IS NOT NULL
BEGIN
    INSERT INTO memory_postings (term_key, entry_id)
        SELECT value, new.id FROM json_each(new.terms);
    INSERT INTO memory_term_df (term_key, df)
        SELECT value, 1 FROM json_each(new.terms) WHERE true
        ON CONFLICT (term_key) DO UPDATE SET df = df + 1;
END;

CREATE TRIGGER memory_terms_delete AFTER DELETE ON memory_entries WHEN old.terms IS NOT NULL
BEGIN
    DELETE FROM memory_postings
        WHERE entry_id = old.id AND term_key IN (SELECT value FROM json_each(old.terms));
    UPDATE memory_term_df SET df = df - 1
        WHERE term_key IN (SELECT value FROM json_each(old.terms));
    DELETE FROM memory_term_df
        WHERE df <= 0 AND term_key IN (SELECT value FROM json_each(old.terms));
END;

CREATE TRIGGER memory_terms_update AFTER UPDATE OF terms ON memory_entries
    WHEN old.terms IS NOT new.terms
BEGIN
    DELETE FROM memory_postings
        WHERE entry_id = old.id AND term_key IN (SELECT value FROM json_each(old.terms));
    UPDATE memory_term_df SET df = df - 1
        WHERE term_key IN (SELECT value FROM json_each(old.terms));
    DELETE FROM memory_term_df
        WHERE df <= 0 AND term_key IN (SELECT value FROM json_each(old.terms));
    INSERT INTO memory_postings (term_key, entry_id)
        SELECT value, new.id FROM json_each(new.terms);
    INSERT INTO memory_term_df (term_key, df)
        SELECT value, 1 FROM json_each(new.terms) WHERE true
        ON CONFLICT (term_key) DO UPDATE SET df = df + 1;
END;
