/// The order workflow's states (issue 10, docs/orders.md): an `order` job
/// records the order `paid`, fans out one render per line (`rendering`), and
/// the last verified master moves it to `masters_ready` with its one
/// `fulfill` job. They rank between `received` (10) and `routed` (50).
extension OrderState {
    public static let paid = OrderState("paid")
    public static let rendering = OrderState("rendering")
    public static let mastersReady = OrderState("masters_ready")
}

extension OrderStateMachine {
    /// The standard table with the workflow's states: what every process uses,
    /// so the per-state indexes and the gauge include them.
    public static let workflow = OrderStateMachine.standard.adding([
        Entry(.paid, rank: 20),
        Entry(.rendering, rank: 30),
        Entry(.mastersReady, rank: 40),
    ])
}
