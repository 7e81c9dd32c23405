-- The translation memory's fuzzy index becomes a word index, as on SQLite (see
-- crates/store/src/memory/terms.rs for why): `terms` holds the keys of an entry's distinct terms
-- (NULL: not yet indexed; the store indexes such entries when it opens), and statement-level
-- triggers keep the postings and each term's document frequency from it, a whole statement's
-- rows at once. Frequencies are changed in key order, so that two writers of one memory lock
-- them in the same order and cannot deadlock. The pg_trgm index it replaces is dropped (the
-- extension stays: other schemas of the database may use it).

DROP INDEX memory_fuzzy;

ALTER TABLE memory_entries ADD COLUMN terms BIGINT[];
CREATE INDEX memory_unindexed ON memory_entries (id) WHERE terms IS NULL;

CREATE TABLE memory_postings (
    term_key BIGINT NOT NULL,
    entry_id BIGINT NOT NULL,
    PRIMARY KEY (term_key, entry_id)
);

CREATE TABLE memory_term_df (
    term_key BIGINT PRIMARY KEY,
    df       INTEGER NOT NULL
);

-- Changes the frequencies: one more for each item of `added` (an entry's term), one fewer for
-- each of `removed`, in one pass in key order; terms left in no entry are deleted.
CREATE FUNCTION memory_terms_count(added BIGINT[], removed BIGINT[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO memory_term_df AS d (term_key, df)
        SELECT k, SUM(n) FROM (
            SELECT k, 1 AS n FROM unnest(added) k
            UNION ALL
            SELECT k, -1 FROM unnest(removed) k
        ) t GROUP BY k HAVING SUM(n) <> 0 ORDER BY k
        ON CONFLICT (term_key) DO UPDATE SET df = d.df + excluded.df;
    DELETE FROM memory_term_df WHERE term_key = ANY (removed) AND df <= 0;
$$;

CREATE FUNCTION memory_terms_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_postings (term_key, entry_id)
        SELECT k, n.id FROM new_rows n, unnest(n.terms) k;
    PERFORM memory_terms_count(ARRAY(SELECT k FROM new_rows n, unnest(n.terms) k), '{}');
    RETURN NULL;
END $$;

CREATE FUNCTION memory_terms_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM memory_postings p USING (SELECT o.id, k FROM old_rows o, unnest(o.terms) k) g
        WHERE p.term_key = g.k AND p.entry_id = g.id;
    PERFORM memory_terms_count('{}', ARRAY(SELECT k FROM old_rows o, unnest(o.terms) k));
    RETURN NULL;
END $$;

-- Only the rows whose terms changed (an upsert of the same source changes none of them).
CREATE FUNCTION memory_terms_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    removed BIGINT[];
    added BIGINT[];
BEGIN
    DELETE FROM memory_postings p USING (
        SELECT o.id, k FROM old_rows o JOIN new_rows n ON n.id = o.id, unnest(o.terms) k
        WHERE o.terms IS DISTINCT FROM n.terms
    ) g WHERE p.term_key = g.k AND p.entry_id = g.id;
    INSERT INTO memory_postings (term_key, entry_id)
        SELECT k, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id, unnest(n.terms) k
        WHERE o.terms IS DISTINCT FROM n.terms;
    removed := ARRAY(SELECT k FROM old_rows o JOIN new_rows n ON n.id = o.id, unnest(o.terms) k
        WHERE o.terms IS DISTINCT FROM n.terms);
    added := ARRAY(SELECT k FROM new_rows n JOIN old_rows o ON o.id = n.id, unnest(n.terms) k
        WHERE o.terms IS DISTINCT FROM n.terms);
    PERFORM memory_terms_count(added, removed);
    RETURN NULL;
END $$;

CREATE TRIGGER memory_terms_inserted AFTER INSERT ON memory_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION memory_terms_inserted();
CREATE TRIGGER memory_terms_deleted AFTER DELETE ON memory_entries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION memory_terms_deleted();
CREATE TRIGGER memory_terms_updated AFTER UPDATE ON memory_entries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_terms_updated();
