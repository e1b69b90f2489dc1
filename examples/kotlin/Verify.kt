// realface from Kotlin: verifies a video's frames, fed as a phone's camera
// gives them (NV21), through a LocalSession, and prints the verdict as
// `realface verify --json` does. Run it with examples/kotlin/run.sh.
package io.realface.example

import io.realface.Engine
import io.realface.EngineOptions
import io.realface.Frame
import io.realface.LocalOptions
import io.realface.LocalSession
import io.realface.Pixels
import io.realface.Reference
import io.realface.Verdict
import io.realface.support.Nv21Frame
import io.realface.support.Nv21Video
import java.io.File
import kotlin.system.exitProcess

/** A frame as Android's legacy camera (and many decoders) give it. */
fun nv21(f: Nv21Frame): Frame = Frame(
    pixels = Pixels.Nv21(
        width = f.width.toUInt(), height = f.height.toUInt(),
        y = f.y(), yRowStride = f.width.toUInt(),
        vu = f.vu(), vuRowStride = (2 * ((f.width + 1) / 2)).toUInt(),
        colour = f.colour,
    ),
    rotation = 0u,
    mirror = false,
)

/** Runs one local session over `frames`, each given to it by `feed`. */
fun verify(
    engine: Engine,
    reference: ByteArray,
    frames: List<Nv21Frame>,
    options: LocalOptions,
    feed: (Nv21Frame) -> Frame = ::nv21,
): Verdict {
    val photo = Frame(Pixels.Encoded(reference), 0u, false)
    LocalSession(engine, Reference.Photo(photo), options).use { session ->
        for (f in frames) {
            val p = session.pushFrame(feed(f), f.tMs.toULong())
            if (p.state == io.realface.State.FINISHED) break
        }
        return session.finish()
    }
}

private fun numbers(s: String?): List<ULong> =
    s?.split(",")?.filter { it.isNotBlank() }?.map { it.trim().toULong() } ?: emptyList()

fun main(args: Array<String>) {
    val a = args.toList().chunked(2).associate { (k, v) -> k.removePrefix("--") to v }
    val need = { k: String -> a[k] ?: run { System.err.println("verify: --$k is required"); exitProcess(2) } }
    val frames = Nv21Video.read(File(need("frames")))
    val engine = Engine(EngineOptions(
        modelDir = a["models"], models = emptyList(),
        runtimeLibrary = a["runtime"], matcher = a["matcher"],
    ))
    val options = LocalOptions(
        actions = a["actions"]?.split(",") ?: emptyList(),
        promptDelaysMs = numbers(a["prompt-delays-ms"]),
        releaseAtMs = numbers(a["release-at-ms"]),
        optionsJson = null,
    )
    val verdict = verify(engine, File(need("reference")).readBytes(), frames, options)
    System.err.println("${verdict.authState}: ${verdict.frames} frames, reasons ${verdict.reasons.map { it.code }}")
    println(verdict.json)
}
