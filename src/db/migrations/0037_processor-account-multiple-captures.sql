-- Whether payments of a processor account take several partial captures (docs/processors.md, "Captures: one or several per payment").
-- Fixed by the processor for sandbox (true) and Stripe (false); an Adyen account says whether Adyen turned on
-- "multiple partial captures" for its merchant account. A constant default: no table rewrite, and the previous
-- release, which does not read the column, keeps working.
ALTER TABLE processor_accounts ADD COLUMN multiple_captures boolean NOT NULL DEFAULT false;
UPDATE processor_accounts SET multiple_captures = true WHERE processor = 'sandbox';
