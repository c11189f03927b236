"""One posting, one round trip, on PostgreSQL: the function `ledger_post` does in the server what
escrow.ledger.ledger_post did in a dozen statements, in the same order and with the same guarantees (SQLite, for
development only, keeps the ORM code):

1. claim the idempotency key (INSERT ... ON CONFLICT DO NOTHING). A concurrent call holding the same key makes
   this one wait for its end: if it commits, nothing is written here and the first transaction's id and kind are
   returned (claimed = false); if it rolls back, this call claims the key;
2. find the accounts a leg names by key and currency instead of id (escrow.ledger.AccountRef). One that does not
   exist yet fails the statement with SQLSTATE HMK02: Python makes it as wallet_of() does and posts again. (Made
   here, inside the posting's transaction, a new account would be a row that a concurrent first use waits on
   while this posting waits for account locks: a deadlock the lock order cannot prevent.);
3. lock the touched accounts in primary-key order (the lock order of every posting, so two never deadlock);
4. refuse with SQLSTATE HMK01 (Python raises InsufficientFunds) when an account of a non-negative kind would go
   below zero; the statement fails, so nothing it wrote stays;
5. write the entries, in the order of the legs, each in its account's currency, and update the cached balances.

It checks no balance per currency: Python refuses an unbalanced posting before calling it, and the deferred
trigger of 0002 refuses one at commit whatever wrote it.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ledger_post(
    p_kind varchar, p_key varchar, p_memo varchar, p_created_at timestamptz,
    p_actor_id bigint, p_payment_id bigint, p_withdrawal_id bigint, p_milestone_id bigint,
    p_account_ids bigint[], p_account_keys varchar[], p_currencies varchar[], p_amounts numeric[],
    p_non_negative varchar[],
    OUT txn_id bigint, OUT txn_kind varchar, OUT claimed boolean
) LANGUAGE plpgsql AS $$
DECLARE
    account_ids bigint[];
BEGIN
    INSERT INTO escrow_transaction
        (kind, idempotency_key, memo, created_at, actor_id, payment_id, withdrawal_id, milestone_id)
    VALUES (p_kind, p_key, p_memo, p_created_at, p_actor_id, p_payment_id, p_withdrawal_id, p_milestone_id)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO txn_id;
    IF txn_id IS NULL THEN
        SELECT t.id, t.kind INTO txn_id, txn_kind FROM escrow_transaction t WHERE t.idempotency_key = p_key;
        claimed := false;
        RETURN;
    END IF;
    txn_kind := p_kind;
    claimed := true;

    SELECT array_agg(coalesce(l.id, a.id) ORDER BY l.n) INTO account_ids
      FROM unnest(p_account_ids, p_account_keys, p_currencies) WITH ORDINALITY AS l (id, key, currency, n)
      LEFT JOIN escrow_account a ON l.id IS NULL AND a.key = l.key AND a.currency = l.currency;
    IF array_position(account_ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'ledger posting % names an account that does not exist yet', p_key
            USING ERRCODE = 'HMK02';
    END IF;

    PERFORM FROM escrow_account a WHERE a.id = ANY (account_ids) ORDER BY a.id FOR UPDATE;

    IF EXISTS (
        SELECT FROM escrow_account a
          JOIN (SELECT l.account_id, SUM(l.amount) AS change
                  FROM unnest(account_ids, p_amounts) AS l (account_id, amount) GROUP BY l.account_id) c
            ON c.account_id = a.id
         WHERE a.kind = ANY (p_non_negative) AND a.balance + c.change < 0
    ) THEN
        RAISE EXCEPTION 'ledger posting % would take an account below zero', p_key USING ERRCODE = 'HMK01';
    END IF;

    INSERT INTO escrow_entry (transaction_id, account_id, amount, currency)
    SELECT txn_id, l.account_id, l.amount, a.currency
      FROM unnest(account_ids, p_amounts) WITH ORDINALITY AS l (account_id, amount, n)
      JOIN escrow_account a ON a.id = l.account_id
     ORDER BY l.n;

    UPDATE escrow_account a SET balance = a.balance + c.change
      FROM (SELECT l.account_id, SUM(l.amount) AS change
              FROM unnest(account_ids, p_amounts) AS l (account_id, amount) GROUP BY l.account_id) c
     WHERE a.id = c.account_id;
END $$;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS ledger_post(varchar, varchar, varchar, timestamptz, bigint, bigint, bigint, bigint,
    bigint[], varchar[], varchar[], numeric[], varchar[]);
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("escrow", "0013_bonus")]
    operations = [migrations.RunPython(forward, backward)]
