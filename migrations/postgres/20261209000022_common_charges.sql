-- Common charges: one bill shared out across the accounts a manager chose, by a rule (equally,
-- or by each account's use), asked for as one adjustment request for a second person to
-- approve. The request's amount is then the whole bill, negative; each account carries its
-- own share. Plain requests (the same amount on every account) leave both columns NULL.
ALTER TABLE adjustment_requests ADD COLUMN share_rule TEXT CHECK (share_rule IN ('equally', 'by_use'));
ALTER TABLE adjustment_request_accounts ADD COLUMN amount_minor BIGINT CHECK (amount_minor <> 0);
