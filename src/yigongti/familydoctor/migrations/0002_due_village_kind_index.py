"""The day list's index: one village's due items of one kind, most urgent first (``queries.due.for_user`` reads the
25 most urgent of each kind; the counts per kind read the same index). With only ``(village, due_by)`` and
``(kind, due_by)`` PostgreSQL read every item of the village (3,600 on 2,300 pages for the largest village of a
450,000-resident county) to keep one kind's; ``bench/fd_village.py``.

Plain SQL outside the model state (``DueItem.Meta`` was left as it is; moving the index there later takes a
state-only migration); the same statement runs on PostgreSQL and SQLite."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("familydoctor", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS fd_due_village_kind ON familydoctor_dueitem (village_id, kind, due_by)",
            "DROP INDEX IF EXISTS fd_due_village_kind",
        ),
    ]
