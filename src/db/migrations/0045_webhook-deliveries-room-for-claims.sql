-- A claim leases up to 64 due deliveries in one statement, oldest first, so it updates every row of a page
-- at once: the old versions stay until the claim commits, and the page needs room for a second copy of each
-- row for all of them to be HOT updates (no new entry in any of the table's five indexes). At fillfactor 70
-- (22 rows of ≈ 250 bytes per page) only the first nine or so fit, and the drain measured 2,192 HOT updates
-- of 10,002 (the claims and the results of 5,000 deliveries; a result changes `status`, which the partial
-- indexes name, so it is never HOT). At 45 a page holds 15 rows and room for a leased copy of each.
-- Pages written before keep their layout; only new pages (every new delivery) use the new setting, so this
-- takes no rewrite and no lock that blocks writes.
ALTER TABLE webhook_deliveries SET (fillfactor = 45);
