//! tlog-tiles paths (spec examples, every malformed form, never panicking), tile contents and
//! entry bundles.

use civgrid_ledger::tiles::{
    decode_entry_bundle, decode_hash_tile, encode_entry_bundle, encode_hash_tile, format_tile_index, parse_tile_path,
    tiles_at_level, TileKind, TilePath,
};
use civgrid_ledger::tree::{root_ids, NodeId};
use civgrid_ledger::{leaf_hash, HashReader, MemoryStore};
use proptest::prelude::*;

#[test]
fn spec_index_encoding() {
    assert_eq!(format_tile_index(1234067), "x001/x234/067");
    assert_eq!(format_tile_index(0), "000");
    assert_eq!(format_tile_index(5), "005");
    assert_eq!(format_tile_index(1000), "x001/000");
    assert_eq!(format_tile_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
    let t = parse_tile_path("tile/0/x001/x234/067").unwrap();
    assert_eq!((t.kind(), t.index(), t.width()), (TileKind::Hashes(0), 1234067, 256));
    let t = parse_tile_path("tile/entries/x001/x234/067.p/8").unwrap();
    assert_eq!((t.kind(), t.index(), t.width(), t.is_partial()), (TileKind::Entries, 1234067, 8, true));
    assert_eq!(t.to_path(), "tile/entries/x001/x234/067.p/8");
    let t = parse_tile_path("tile/2/000.p/1").unwrap();
    assert_eq!((t.kind(), t.index(), t.width()), (TileKind::Hashes(2), 0, 1));
}

#[test]
fn spec_tile_counts() {
    // 70,000 leaves: 273 full level-0 tiles + a partial of 112, one full level-1 tile + a
    // partial of 17, and a partial level-2 tile of 1.
    assert_eq!(tiles_at_level(70_000, 0), (273, 112));
    assert_eq!(tiles_at_level(70_000, 1), (1, 17));
    assert_eq!(tiles_at_level(70_000, 2), (0, 1));
    assert_eq!(tiles_at_level(70_000, 3), (0, 0));
    // 256 leaves: a full level-0 tile and a partial level-1 tile of width 1.
    assert_eq!(tiles_at_level(256, 0), (1, 0));
    assert_eq!(tiles_at_level(256, 1), (0, 1));
    assert_eq!(tiles_at_level(u64::MAX, 63), (0, 0));
}

#[test]
fn malformed_paths_are_refused_precisely() {
    let cases = [
        ("", "not_tile_path"),
        ("/tile/0/000", "not_tile_path"),
        ("tiles/0/000", "not_tile_path"),
        ("tile/", "bad_tile_level"),
        ("tile/00/000", "bad_tile_level"),
        ("tile/01/000", "bad_tile_level"),
        ("tile/64/000", "bad_tile_level"),
        ("tile/-1/000", "bad_tile_level"),
        ("tile/a/000", "bad_tile_level"),
        ("tile/+1/000", "bad_tile_level"),
        ("tile/0", "bad_tile_index"),
        ("tile/0/", "bad_tile_index"),
        ("tile/0/00", "bad_tile_index"),
        ("tile/0/0000", "bad_tile_index"),
        ("tile/0/1", "bad_tile_index"),
        ("tile/0/x001", "bad_tile_index"),
        ("tile/0/x001/", "bad_tile_index"),
        ("tile/0/x01/000", "bad_tile_index"),
        ("tile/0/001/002", "tile_path_extra_segments"),
        ("tile/0/0a1", "bad_tile_index"),
        ("tile/0/X001/000", "bad_tile_index"),
        ("tile/0/x001.p/000", "bad_tile_index"),
        ("tile/0/x000/001", "tile_index_leading_zeros"),
        ("tile/0/x000/x000/001", "tile_index_leading_zeros"),
        ("tile/0/000.p/0", "bad_tile_width"),
        ("tile/0/000.p/256", "bad_tile_width"),
        ("tile/0/000.p/08", "bad_tile_width"),
        ("tile/0/000.p/", "bad_tile_width"),
        ("tile/0/000.p", "bad_tile_width"),
        ("tile/0/000.p/1a", "bad_tile_width"),
        ("tile/0/000.p/-1", "bad_tile_width"),
        ("tile/0/000.q/1", "bad_tile_index"),
        ("tile/0/000.p/1/", "tile_path_extra_segments"),
        ("tile/0/000.p/1/x", "tile_path_extra_segments"),
        ("tile/0/000/", "tile_path_extra_segments"),
        ("tile/entries", "bad_tile_index"),
        ("tile/entries/", "bad_tile_index"),
        ("tile/entries/000.p/256", "bad_tile_width"),
        // Beyond any tree of at most 2^64 - 1 leaves.
        ("tile/0/x072/x057/x594/x037/x927/936", "tile_index_too_large"),
        // A full tile 2^56 - 1 would need leaf 2^64 - 1, i.e. a tree of 2^64 leaves.
        ("tile/0/x072/x057/x594/x037/x927/935", "tile_index_too_large"),
        ("tile/entries/x072/x057/x594/x037/x927/936", "tile_index_too_large"),
        ("tile/0/x018/x446/x744/x073/x709/x551/615", "tile_index_too_large"),
        ("tile/0/x999/x999/x999/x999/x999/x999/999", "tile_index_too_large"),
        ("tile/0/x001/x001/x001/x001/x001/x001/x001/001", "tile_index_too_large"),
        ("tile/8/000.p/1", "tile_index_too_large"),
        ("tile/63/000.p/1", "tile_index_too_large"),
        ("tile/7/000", "tile_index_too_large"),
    ];
    for (path, code) in cases {
        assert_eq!(parse_tile_path(path).map_err(|e| e.code()), Err(code), "{path:?}");
    }
    // The largest tiles that can exist still parse.
    assert!(parse_tile_path("tile/7/000.p/255").is_ok());
    assert!(parse_tile_path("tile/0/x072/x057/x594/x037/x927/934").is_ok());
    assert!(parse_tile_path("tile/0/x072/x057/x594/x037/x927/935.p/255").is_ok());
    assert!(parse_tile_path("tile/entries/x072/x057/x594/x037/x927/935.p/255").is_ok());
}

#[test]
fn tile_contents_address_stored_nodes() {
    let leaves: Vec<_> = (0..70_000u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let mut store = MemoryStore::new();
    store.append_leaves(&leaves).unwrap();
    let size = 70_000;

    let full = parse_tile_path("tile/0/x001/016").unwrap();
    assert_eq!(full.node_range(), (0, 1016 * 256..1017 * 256));
    assert!(!full.is_available_at(size), "tile 1016 is beyond 70,000 leaves");
    let last_full = TilePath::hashes(0, 272, 256).unwrap();
    assert!(last_full.is_available_at(size));
    let partial = TilePath::hashes(0, 273, 112).unwrap();
    assert!(partial.is_available_at(size));
    assert!(!TilePath::hashes(0, 273, 113).unwrap().is_available_at(size));
    let level1 = TilePath::hashes(1, 1, 17).unwrap();
    assert_eq!(level1.node_ids().first(), Some(&NodeId::new(8, 256)));
    assert!(level1.is_available_at(size));
    let level2 = TilePath::hashes(2, 0, 1).unwrap();
    assert_eq!(level2.node_ids(), vec![NodeId::new(16, 0)]);

    // Tile bodies are the stored hashes; level-1 hashes are the roots of full level-0 tiles.
    let body = encode_hash_tile(&store.read_hashes(&level1.node_ids()).unwrap());
    assert_eq!(body.len(), 17 * 32);
    let hashes = decode_hash_tile(&body).unwrap();
    let tile_256 = TilePath::hashes(0, 256, 256).unwrap();
    let level0 = store.read_hashes(&tile_256.node_ids()).unwrap();
    let mut sub = MemoryStore::new();
    sub.append_leaves(&level0).unwrap();
    assert_eq!(hashes[0], sub.root().unwrap());
    // The root decomposition of the tree is covered by available tiles.
    for id in root_ids(size) {
        assert!(id.is_complete_in(size));
    }
    assert!(decode_hash_tile(&[0; 31]).is_err());
    assert!(decode_hash_tile(&[]).is_err());
    assert!(decode_hash_tile(&[0; 257 * 32]).is_err());
}

#[test]
fn entry_bundles() {
    let entries: Vec<Vec<u8>> = vec![vec![], b"a".to_vec(), vec![7; 300], vec![9; 65_535]];
    let bundle = encode_entry_bundle(&entries).unwrap();
    assert_eq!(&bundle[..5], &[0, 0, 0, 1, b'a']);
    let decoded = decode_entry_bundle(&bundle).unwrap();
    assert_eq!(decoded, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert_eq!(encode_entry_bundle(&[vec![0u8; 65_536]]).unwrap_err().code(), "entry_too_large");
    for cut in [1, 2, 100] {
        assert_eq!(decode_entry_bundle(&bundle[..bundle.len() - cut]).unwrap_err().code(), "truncated_entry_bundle");
    }
    assert_eq!(decode_entry_bundle(&[0]).unwrap_err().code(), "truncated_entry_bundle");
    assert!(decode_entry_bundle(&[]).unwrap().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary strings never panic the parser.
    #[test]
    fn parse_never_panics(s in ".{0,80}") {
        let _ = parse_tile_path(&s);
    }

    /// Tile-shaped strings never panic either, and whatever parses is the one canonical spelling.
    #[test]
    fn parsed_paths_are_canonical(s in "tile/(entries|[0-9]{1,3})(/x?[0-9]{1,4}){1,8}(\\.p/[0-9]{1,4})?/?") {
        if let Ok(t) = parse_tile_path(&s) {
            prop_assert_eq!(t.to_path(), s);
        }
    }

    /// Nearly well-formed paths parse unless they hit a documented refusal.
    #[test]
    fn near_valid_paths(s in "tile/(entries|[0-7])(/x[0-9]{3}){0,3}/[0-9]{3}(\\.p/[1-9][0-9]?)?") {
        match parse_tile_path(&s) {
            Ok(t) => prop_assert_eq!(t.to_path(), s),
            Err(e) => prop_assert!(["tile_index_leading_zeros", "tile_index_too_large"].contains(&e.code()), "{}: {}", s, e),
        }
    }

    /// Every valid tile round-trips through its path.
    #[test]
    fn valid_tiles_round_trip(level in 0u8..8, index in any::<u64>(), width in 1u16..=256, entries in any::<bool>()) {
        let tile = if entries { TilePath::entries(index, width) } else { TilePath::hashes(level, index, width) };
        if let Ok(t) = tile {
            prop_assert_eq!(parse_tile_path(&t.to_path()), Ok(t));
            prop_assert_eq!(t.node_ids().len(), usize::from(width));
        }
    }
}
