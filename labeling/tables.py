"""The label database's tables (SQLAlchemy 2 declarative); Alembic migrates them.

Labels are never overwritten without a trace: every set, change, undo and
adjudication is also written to ``label_events``, so history survives.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # How many annotators should label each sentence (2+ measures agreement).
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("project_id", "doc_key", name="uq_documents_project_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    doc_key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sentences: Mapped[list["Sentence"]] = relationship(back_populates="document", order_by="Sentence.position")


class Sentence(Base):
    __tablename__ = "sentences"
    __table_args__ = (
        UniqueConstraint("document_id", "position", name="uq_sentences_document_position"),
        Index("ix_sentences_project_margin", "project_id", "margin"),
        Index("ix_sentences_queue", "project_id", "flagged", "margin", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # Normalised text key: equal keys are near-identical sentences.
    norm: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    # Gap between the two most probable labels: small means the model is unsure.
    margin: Mapped[float] = mapped_column(Float)
    p_pro_russia: Mapped[float] = mapped_column(Float)
    p_neutral: Mapped[float] = mapped_column(Float)
    p_pro_ukraine: Mapped[float] = mapped_column(Float)
    flags: Mapped[str] = mapped_column(String(100), default="")
    # Any scope flag: the uncertainty queue gives these last (revision 0002).
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    model_version: Mapped[str] = mapped_column(String(100))
    document: Mapped[Document] = relationship(back_populates="sentences")


class Label(Base):
    """An annotator's current label for a sentence (one per annotator)."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("sentence_id", "annotator", name="uq_labels_sentence_annotator"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"), index=True)
    annotator: Mapped[str] = mapped_column(String(100), index=True)
    label: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Gold(Base):
    """The adjudicated label, which export prefers over the majority."""

    __tablename__ = "gold_labels"
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(20))
    adjudicator: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LabelEvent(Base):
    """Append-only history: label, change, undo, gold, ungold."""

    __tablename__ = "label_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"), index=True)
    annotator: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(10))
    label: Mapped[str | None] = mapped_column(String(20), nullable=True)
    previous: Mapped[str | None] = mapped_column(String(20), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Hold(Base):
    """A queue item handed to an annotator, kept from others until it expires."""

    __tablename__ = "holds"
    __table_args__ = (UniqueConstraint("sentence_id", "annotator", name="uq_holds_sentence_annotator"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    sentence_id: Mapped[int] = mapped_column(ForeignKey("sentences.id", ondelete="CASCADE"), index=True)
    annotator: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A skipped item is never offered to this annotator again and holds no one else off.
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
