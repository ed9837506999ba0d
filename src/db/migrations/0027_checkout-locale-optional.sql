-- A checkout created without a locale has `locale: null` in the API: its pages follow the shopper's
-- Accept-Language, then the merchant's default_locale. `locale` keeps the merchant's default at creation (the
-- order's country name and the browser SDK still read it); this flag says it was not asked for.
ALTER TABLE checkouts ADD COLUMN locale_is_default boolean NOT NULL DEFAULT false;
