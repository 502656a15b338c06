"""Telephony: a trunk may carry calls out (an operator's transfer to an outside number).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sip_trunks") as batch:
        batch.add_column(sa.Column("outbound_uri", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sip_trunks") as batch:
        batch.drop_column("outbound_uri")
