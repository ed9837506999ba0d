-- GET /v1/captures and GET /v1/refunds list a merchant's captures and refunds of one mode, newest first.
CREATE INDEX captures_merchant_list_idx ON captures (merchant_id, livemode, created_at DESC, id DESC);
CREATE INDEX refunds_merchant_list_idx ON refunds (merchant_id, livemode, created_at DESC, id DESC);
