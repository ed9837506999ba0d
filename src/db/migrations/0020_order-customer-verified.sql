-- Whether the merchant vouched for the order's customer (`customer.verified: true`: the shopper signed in to the
-- merchant's shop). Only then does the hosted page offer, and charge, the customer's saved cards: an e-mail
-- address alone is something anyone can type. Orders from before default to not verified (fail closed).
ALTER TABLE orders ADD COLUMN customer_verified boolean NOT NULL DEFAULT false;
