-- Avatars: the media record (a 512×512 WebP the server cut from an upload) shown for a user
-- or a group. Removing the media record clears the reference.

ALTER TABLE users ADD COLUMN avatar UUID REFERENCES media (id) ON DELETE SET NULL;
ALTER TABLE rooms ADD COLUMN avatar UUID REFERENCES media (id) ON DELETE SET NULL;
