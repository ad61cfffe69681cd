-- Which contents of a PENDING version the client was asked to upload. A log commits
-- content without an upload only when the logger can already read a live version
-- holding it; any other digest gets an upload URL whether or not the blob exists (so a
-- digest reveals nothing), and commit must then hash that upload even though a blob
-- with the digest is already stored. This flag says so; commit clears it for each
-- upload that verified.
ALTER TABLE manifest_entries ADD COLUMN verify_upload boolean NOT NULL DEFAULT false;

-- Versions pending at upgrade were logged under the old rule (content held anywhere
-- counted). Their contents that no committed version in the same entity or in a
-- readable-to-all project holds must be uploaded after all; the rest were readable
-- to the logger then, as far as the database can tell.
UPDATE manifest_entries m SET verify_upload = true
  FROM artifact_versions v JOIN projects p ON p.id = v.project_id
 WHERE v.id = m.version_id AND v.state = 'PENDING' AND m.ref IS NULL
   AND NOT EXISTS (
       SELECT FROM manifest_entries h
         JOIN artifact_versions hv ON hv.id = h.version_id
         JOIN projects hp ON hp.id = hv.project_id
        WHERE h.digest = m.digest AND h.ref IS NULL AND hv.state = 'COMMITTED'
          AND (hp.visibility <> 'PRIVATE' OR hp.entity_id = p.entity_id));
