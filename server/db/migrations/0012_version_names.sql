-- Each artifact version carries its collection's name and type, so reading a version's
-- row needs no join with artifact_collections. A 10,000-node lineage answer reads ~5,000
-- version rows by id, and joining their collections for the name (a hash of all ~35,000
-- collections on the bench's medium graph) was about 40% of that statement.
--
-- A collection's name and type never change (nothing renames or retypes a collection; a
-- new name is a new collection), so these copies cannot go stale. The database keeps them
-- equal all the same: the version's collection is now referenced by (id, name, type),
-- which makes every insert of a version check the copies against its collection, in the
-- index probe the plain foreign key on collection_id already made.
--
-- Existing versions are filled in here: one UPDATE of every version row, so the table
-- takes up to twice its space until autovacuum has been through it (40,000 versions:
-- under a second).
ALTER TABLE artifact_versions ADD COLUMN name text, ADD COLUMN type text;
UPDATE artifact_versions v SET name = c.name, type = c.type
  FROM artifact_collections c WHERE c.id = v.collection_id;
ALTER TABLE artifact_versions
    ALTER COLUMN name SET NOT NULL,
    ALTER COLUMN type SET NOT NULL;

ALTER TABLE artifact_collections
    ADD CONSTRAINT artifact_collections_identity UNIQUE (id, name, type);
ALTER TABLE artifact_versions
    ADD CONSTRAINT artifact_versions_collection_identity
        FOREIGN KEY (collection_id, name, type)
        REFERENCES artifact_collections (id, name, type),
    DROP CONSTRAINT artifact_versions_collection_id_fkey;
