-- Version 12 is the resources' migration, merged from another branch; this
-- file holds its place until then and is replaced by it.
SELECT 1;
