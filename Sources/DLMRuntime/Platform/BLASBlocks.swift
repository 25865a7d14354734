/// How dlmc calls OpenBLAS so that results do not depend on the thread
/// count: OpenBLAS itself runs single-threaded (its sgemm gives different
/// bits on 1 and 2 threads: measured, OpenBLAS 0.3.21, M=4 N=128 K=784),
/// every product's output is cut into tiles of a fixed size whatever the
/// thread count, one call per tile, and threads share out whole tiles.
/// Each output element is then always computed by the same call, in the
/// same order. Both the interpreter and the JIT's OpenBLAS calls do this.
/// Tiles are small enough that a batch-64 recurrent step still splits.
public enum BLASBlocks {
    /// Output rows per OpenBLAS call.
    public static let rows = 64
    /// Output columns per OpenBLAS call.
    public static let columns = 64

    /// Products of fewer multiply-adds than this are one call: waking threads would cost more than they save.
    public static let splitThreshold = 1 << 23

    /// Whether a product is cut into tiles at all (a function of its sizes only).
    public static func splits(m: Int, n: Int, k: Int) -> Bool { m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k).partialValue >= splitThreshold }

    /// Row tiles of a product with `m` output rows.
    public static func rowTiles(_ m: Int) -> Int { (m + rows - 1) / rows }

    /// Column tiles of a product with `n` output columns.
    public static func columnTiles(_ n: Int) -> Int { (n + columns - 1) / columns }
}
