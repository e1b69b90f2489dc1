// A video's frames as raw NV21 (ffmpeg -pix_fmt nv21 -f rawvideo) with
// their timestamps: how the example and the tests stand in for a camera.
package io.realface.support

import io.realface.YuvColour
import java.io.DataInputStream
import java.io.File
import java.io.FileInputStream

/** One camera frame: the NV21 bytes, their colour and when it was taken. */
class Nv21Frame(val width: Int, val height: Int, val data: ByteArray, val tMs: Long, val colour: YuvColour) {
    /** The luma plane. */
    fun y(): ByteArray = data.copyOfRange(0, width * height)

    /** The interleaved V, U plane. */
    fun vu(): ByteArray = data.copyOfRange(width * height, data.size)
}

object Nv21Video {
    /**
     * Reads what examples/kotlin/frames.sh wrote to `dir`: `frames.nv21`
     * (frames of width x height NV21, one after another), `times.txt` (one
     * line per frame, `pts num/den`, the stream's time base), `size` and
     * `colour`. Times are ms from the first frame, rounded, strictly
     * increasing: as the library's video source stamps them.
     */
    fun read(dir: File): List<Nv21Frame> {
        val (width, height) = File(dir, "size").readText().trim().split(" ").map { it.toInt() }
        val colour = YuvColour.valueOf(File(dir, "colour").readText().trim())
        val times = File(dir, "times.txt").readLines().filter { it.isNotBlank() }.map { line ->
            val (pts, tb) = line.trim().split(" ")
            val (num, den) = tb.split("/").map { it.toLong() }
            Triple(pts.toLong(), num, den)
        }
        val size = width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2)
        val frames = ArrayList<Nv21Frame>()
        var first: Long? = null
        var last: Long? = null
        DataInputStream(FileInputStream(File(dir, "frames.nv21")).buffered()).use { input ->
            for ((pts, num, den) in times) {
                val buf = ByteArray(size)
                try {
                    input.readFully(buf)
                } catch (e: java.io.EOFException) {
                    break
                }
                val f = first ?: pts.also { first = it }
                val timeBase = num.toDouble() / den
                var t = Math.round((pts - f).toDouble() * timeBase * 1000.0).coerceAtLeast(0)
                last?.let { if (t <= it) t = it + 1 }
                last = t
                frames.add(Nv21Frame(width, height, buf, t, colour))
            }
        }
        return frames
    }
}
