-- The brand an instance administrator set on the page (/admin/brand) or
-- through the API: one row at most, each column NULL where the configured
-- value (EQUIPE_BRAND_…) stays in force (docs/branding.md).
CREATE TABLE brand_settings (
    one            integer PRIMARY KEY CHECK (one = 1),
    name           text,
    logo           bytea,
    logo_type      text,
    favicon        bytea,
    favicon_type   text,
    primary_colour text,
    accent_colour  text,
    support_email  text,
    support_url    text,
    terms_url      text,
    imprint_url    text,
    stylesheet     text,
    key_prefix     text,
    updated_at     bigint NOT NULL
);
