"""Wake the relay from the database: a statement-level trigger on the journal sends the NOTIFY.

`journal_append` used to send `SELECT pg_notify(...)` itself after each insert: one more round trip
on every write path (call intake, status changes, narrative). The trigger does the same thing inside
the INSERT. A NOTIFY is still delivered only when (and if) the transaction commits, and PostgreSQL
folds identical notifications of one transaction into one.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION pscc_journal_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pscc_journal', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER pscc_journal_notify AFTER INSERT ON pscc_journalevent
    FOR EACH STATEMENT EXECUTE FUNCTION pscc_journal_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS pscc_journal_notify ON pscc_journalevent;
DROP FUNCTION IF EXISTS pscc_journal_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("pscc", "0005_idempotency_record")]

    operations = [migrations.RunSQL(CREATE, DROP)]
