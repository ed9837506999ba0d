-- Whether a merchant may send raw card data to the Processor API (POST /v1/payments with a card number): a
-- merchant that does is in PCI DSS scope for the card data it handles, so the operator allows it per merchant
-- (`kassa merchant create --card-data`, `kassa merchant update ID --card-data on|off`).
--
-- Merchants that exist now keep what they could do before (nothing breaks on upgrade): the column is added
-- with DEFAULT true, which PostgreSQL stores once in the catalogue for every existing row without rewriting
-- the table, and the default for merchants created from now on is then set to false.
ALTER TABLE merchants ADD COLUMN card_data_permitted boolean NOT NULL DEFAULT true;
ALTER TABLE merchants ALTER COLUMN card_data_permitted SET DEFAULT false;
