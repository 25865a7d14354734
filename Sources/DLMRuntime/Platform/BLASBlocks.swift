/// How dlmc calls OpenBLAS so that results do not depend on the thread
/// count: OpenBLAS itself runs single-threaded (its sgemm gives different
/// bits on 1 and 2 threads: measured, OpenBLAS 0.3.21, M=4 N=128 K=784),
/// every product is cut into blocks of a fixed number of rows whatever the
/// thread count, one call per block, and threads share out whole blocks.
/// Each output element is then always computed by the same call, in the
/// same order. Both the interpreter and the JIT's OpenBLAS calls do this.
public enum BLASBlocks {
    /// Rows per OpenBLAS call.
    public static let rows = 64

    /// Blocks for a product with `rows` output rows.
    public static func count(rows m: Int) -> Int { (m + rows - 1) / rows }
}
