// The web client in web/dist is embedded (rust-embed); rebuild when it changes.
fn main() {
    println!("cargo:rerun-if-changed=../../web/dist");
}
