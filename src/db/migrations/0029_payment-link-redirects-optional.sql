-- A payment link's redirect URLs are optional (docs/payment-links.md): a link sent with an invoice has no shop
-- page to return to, and its shopper ends on Kassa's own page of the session instead.
ALTER TABLE payment_links ALTER COLUMN completed_redirect_url DROP NOT NULL;
ALTER TABLE payment_links ALTER COLUMN canceled_redirect_url DROP NOT NULL;
