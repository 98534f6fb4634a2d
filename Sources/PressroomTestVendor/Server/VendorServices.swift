/// What every route needs: the state, the asset downloader and the
/// connection watcher (shared by all requests).
final class VendorServices: Sendable {
    let store: VendorStore
    let assets: AssetFetcher
    let connections: ConnectionWatch

    init(store: VendorStore, assets: AssetFetcher, connections: ConnectionWatch) {
        self.store = store
        self.assets = assets
        self.connections = connections
    }
}
