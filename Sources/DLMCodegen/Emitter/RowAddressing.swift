import CLLVM

/// Where the elements of one row of a GEMM's left operand A live, so the
/// same micro-kernel multiplies a plain row-major matrix and, without
/// im2col, the receptive fields of a convolution (an implicit GEMM).
///
/// Row `r`'s element `k = s * segmentLength + j` is at
/// `base(r) + segmentOffsets[s] + j`: a dense row is one segment of K
/// elements; an NHWC receptive field is one segment per filter row (kw·C
/// contiguous input elements when the dilation along x is 1) or per tap.
struct RowAddressing: Equatable {
    enum Geometry: Equatable {
        /// Row r starts at `r * stride`.
        case dense(stride: Int)
        /// Convolution pixels in pooling-window order: row r is cell `r % (windowHeight·windowWidth)`
        /// of the window of pixel `r / (windowHeight·windowWidth)` of an `[N, height, width]` grid,
        /// i.e. output pixel (n, y·strideY + cy, x·strideX + cx), which starts at
        /// `n * image + y * rowStep + x * columnStep`. Without a pool the window is 1×1 and the
        /// rows are the output pixels in order.
        case window(height: Int, width: Int, windowHeight: Int, windowWidth: Int, strideY: Int, strideX: Int,
                    image: Int, rowStep: Int, columnStep: Int)
    }

    let geometry: Geometry
    let segmentOffsets: [Int]
    let segmentLength: Int

    /// K, the length of a row.
    var depth: Int { segmentOffsets.count * segmentLength }

    /// Rows of a row-major `[M, k]` matrix.
    static func dense(depth: Int) -> RowAddressing {
        RowAddressing(geometry: .dense(stride: depth), segmentOffsets: [0], segmentLength: depth)
    }

    /// The receptive fields of an unpadded NHWC convolution over `input` (H, W, C) with
    /// a `kernel` (kh, kw) filter, producing an `output` (OH, OW) grid per image; with a `pool`,
    /// only the output pixels in its windows, window by window (its grid, window and strides).
    static func convolution(input: (height: Int, width: Int, channels: Int), kernel: (height: Int, width: Int),
                            strides: [Int], dilations: [Int], output: (height: Int, width: Int),
                            pool: (grid: [Int], window: [Int], strides: [Int])? = nil) -> RowAddressing {
        let (h, w, c) = input
        let rowPitch = w * c
        let (image, rowStep, columnStep) = (h * rowPitch, strides[0] * rowPitch, strides[1] * c)
        let window = pool ?? (grid: [output.height, output.width], window: [1, 1], strides: [1, 1])
        let geometry = Geometry.window(height: window.grid[0], width: window.grid[1], windowHeight: window.window[0], windowWidth: window.window[1],
                                       strideY: window.strides[0], strideX: window.strides[1], image: image, rowStep: rowStep, columnStep: columnStep)
        if dilations[1] == 1 {
            // A filter row's taps are adjacent input pixels: kw·C contiguous elements.
            let offsets = (0..<kernel.height).map { ky in ky * dilations[0] * rowPitch }
            return RowAddressing(geometry: geometry, segmentOffsets: offsets, segmentLength: kernel.width * c)
        }
        let offsets = (0..<kernel.height).flatMap { ky in
            (0..<kernel.width).map { kx in ky * dilations[0] * rowPitch + kx * dilations[1] * c }
        }
        return RowAddressing(geometry: geometry, segmentOffsets: offsets, segmentLength: c)
    }

    /// The element index where row `row` (an i64) starts.
    func base(of row: LLVMValueRef?, in module: CodeModule) -> LLVMValueRef? {
        let b = module.builder
        switch geometry {
        case .dense(let stride):
            return LLVMBuildNUWMul(b, row, module.int64(stride), "a.row")
        case .window(let height, let width, let windowHeight, let windowWidth, let strideY, let strideX, let image, let rowStep, let columnStep):
            let cells = windowHeight * windowWidth
            let cell = LLVMBuildURem(b, row, module.int64(cells), "")
            let pixel = LLVMBuildUDiv(b, row, module.int64(cells), "")
            let px = LLVMBuildURem(b, pixel, module.int64(width), "")
            let rest = LLVMBuildUDiv(b, pixel, module.int64(width), "")
            let py = LLVMBuildURem(b, rest, module.int64(height), "")
            let n = LLVMBuildUDiv(b, rest, module.int64(height), "")
            let y = LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, py, module.int64(strideY), ""), LLVMBuildUDiv(b, cell, module.int64(windowWidth), ""), "")
            let x = LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, px, module.int64(strideX), ""), LLVMBuildURem(b, cell, module.int64(windowWidth), ""), "")
            let loops = LoopNest(module: module, function: nil)
            return loops.linear([n, y, x], [image, rowStep, columnStep])
        }
    }
}
