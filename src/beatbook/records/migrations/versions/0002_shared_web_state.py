"""What the web server's workers share: login failures, rate limits and the signing secret.

Until this revision each server process kept them in memory, so two workers each allowed their
own five wrong passwords and signed forms with their own secret. No rows are moved: counters
start empty, and the first worker to start makes the secret. Tables already there are kept (a
store adopted by the baseline may have been made by a BeatBook that had them).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last", sa.Double, nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("window_start", sa.Double, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        if_not_exists=True,
    )


def downgrade() -> None:
    for table in ("app_secrets", "rate_limits", "login_failures"):
        op.drop_table(table)
