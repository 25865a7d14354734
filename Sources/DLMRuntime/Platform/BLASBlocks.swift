/// How dlmc calls OpenBLAS so that results do not depend on the thread
/// count: OpenBLAS itself runs single-threaded (its sgemm gives different
/// bits on 1 and 2 threads: measured, OpenBLAS 0.3.21, M=4 N=128 K=784),
/// every product's output is cut into tiles whose size depends on the
/// product's sizes only, never on the thread count, one call per tile, and
/// threads share out whole tiles. Each output element is then always
/// computed by the same call, in the same order. Both the interpreter and
/// the JIT's OpenBLAS calls do this.
public enum BLASBlocks {
    /// Output rows per OpenBLAS call.
    public static let rows = 64
    /// Output columns per OpenBLAS call.
    public static let columns = 64

    /// Products of fewer multiply-adds than this are one call: waking threads would cost more than they save.
    public static let splitThreshold = 1 << 23

    /// The tile size of a product's output, a function of its sizes only:
    /// the whole output for a small product; bands of `rows` rows at full
    /// width when there are at least two (OpenBLAS then packs each band of A
    /// once and B once per band); otherwise, for a few rows (a recurrent step
    /// at batch 64), strips of `columns` columns.
    public static func tile(m: Int, n: Int, k: Int) -> (rows: Int, columns: Int) {
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k).partialValue
        guard work >= splitThreshold else { return (m, n) }
        return m >= 2 * rows ? (rows, n) : (m, columns)
    }
}
