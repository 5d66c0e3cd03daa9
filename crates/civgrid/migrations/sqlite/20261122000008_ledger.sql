-- The trust ledger (issue 4): an RFC 6962 Merkle tree over log entries, stored as immutable
-- complete-subtree hashes (the tlog-tiles model), plus signed checkpoints.

-- One row per record that matters, written in the record's own transaction. `seq` (the leaf
-- index) is assigned by the sequencer, in batches, shortly after commit.
create table ledger_entry (
    id              integer primary key autoincrement,
    kind            text not null,
    ref             text not null,
    content_sha256  text not null,
    created_at      text not null,
    seq             integer unique
);
create unique index ledger_entry_record on ledger_entry (kind, ref);
-- No partial index of the pending entries: the unique index on `seq` keeps them (seq NULL) in
-- id order already, and the sequencer's plan walks that; a second index only cost two B-tree
-- writes per entry.

-- Hashes of complete subtrees: level 0 = leaf hashes. Never updated once written.
create table ledger_node (
    level integer not null,
    idx   integer not null,
    hash  blob not null,
    primary key (level, idx)
) without rowid;

-- The integrated tree: one row, also the sequencer's lock.
create table ledger_state (
    id         integer primary key check (id = 1),
    size       integer not null,
    root       blob not null,
    updated_at text not null
);

-- Signed checkpoints, newest last; `note` gains cosignature lines as witnesses answer.
create table ledger_checkpoint (
    size        integer primary key,
    root        blob not null,
    note        text not null,
    cosigned_by text not null default '',
    created_at  text not null
);

-- The size each witness last cosigned (the `old` of the next add-checkpoint request).
create table ledger_witness (
    vkey       text primary key,
    size       integer not null,
    updated_at text not null
);

-- The empty tree: size 0, root SHA-256 of the empty string (RFC 6962 MTH({})).
insert into ledger_state (id, size, root, updated_at)
values (1, 0, X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '1970-01-01T00:00:00Z');
