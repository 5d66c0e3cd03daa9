// `sqlx::migrate!` embeds the migrations at compile time, but on stable Rust cargo does not
// know the macro read them: without this, a new migration file would not rebuild the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
