-- The brand an instance administrator set on the page (/admin/brand) or
-- through the API: one row at most, each column NULL where the configured
-- value (EQUIPE_BRAND_…) stays in force (docs/branding.md).
CREATE TABLE brand_settings (
    one            INTEGER PRIMARY KEY CHECK (one = 1),
    name           TEXT,
    logo           BLOB,
    logo_type      TEXT,
    favicon        BLOB,
    favicon_type   TEXT,
    primary_colour TEXT,
    accent_colour  TEXT,
    support_email  TEXT,
    support_url    TEXT,
    terms_url      TEXT,
    imprint_url    TEXT,
    stylesheet     TEXT,
    key_prefix     TEXT,
    updated_at     INTEGER NOT NULL
) STRICT;
