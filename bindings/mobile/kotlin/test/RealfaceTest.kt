// The Kotlin bindings on the JVM, against the real library, models and
// server: bindings/mobile/kotlin/test.sh builds and runs this.
package io.realface.test

import io.realface.CaptureSession
import io.realface.Engine
import io.realface.EngineOptions
import io.realface.Frame
import io.realface.LocalOptions
import io.realface.LocalSession
import io.realface.Pixels
import io.realface.Plane
import io.realface.RealfaceException
import io.realface.Reference
import io.realface.State
import io.realface.Verdict
import io.realface.example.verify
import io.realface.support.Json
import io.realface.support.Nv21Frame
import io.realface.support.Nv21Video
import io.realface.support.get
import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.Base64
import java.util.concurrent.TimeUnit
import javax.imageio.ImageIO
import kotlin.system.exitProcess

class Failure(message: String) : Exception(message)

fun check(ok: Boolean, message: () -> String) {
    if (!ok) throw Failure(message())
}

/** The arguments test.sh passes (`--name value` pairs). */
class Setup(args: Array<String>) {
    private val a = args.toList().chunked(2).associate { (k, v) -> k.removePrefix("--") to v }
    fun arg(k: String) = a[k] ?: throw Failure("--$k missing")
    val data = File(arg("data"))
    val engine = Engine(EngineOptions(
        modelDir = arg("models"), models = emptyList(),
        runtimeLibrary = arg("runtime"), matcher = null,
    ))
}

// ---- frames as phones give them -------------------------------------------

/**
 * The frame as a CameraX `YUV_420_888` image of a phone held so that the
 * camera sees it sideways: every plane turned 90 degrees counter-clockwise,
 * rows padded to `pad` extra bytes, U and V interleaved in one buffer (pixel
 * stride 2) and given as two planes; `rotation = 90` turns it back.
 */
fun sidewaysPlanes(f: Nv21Frame, pad: Int): Frame {
    val (w, h) = f.width to f.height
    val (cw, ch) = (w + 1) / 2 to (h + 1) / 2
    // turned 90 degrees counter-clockwise: the frame is h wide, w high;
    // source (x, y) lands at (y, w - 1 - x)
    val yStride = h + pad
    val y = ByteArray(yStride * w)
    for (sy in 0 until h) for (sx in 0 until w) {
        y[(w - 1 - sx) * yStride + sy] = f.data[sy * w + sx]
    }
    val cStride = 2 * ch + pad
    val uv = ByteArray(cStride * cw)
    val vu = f.data
    val base = w * h
    for (sy in 0 until ch) for (sx in 0 until cw) {
        val at = (cw - 1 - sx) * cStride + 2 * sy
        uv[at] = vu[base + sy * 2 * cw + 2 * sx + 1] // U
        uv[at + 1] = vu[base + sy * 2 * cw + 2 * sx] // V
    }
    return Frame(
        pixels = Pixels.Yuv420(
            width = h.toUInt(), height = w.toUInt(),
            y = Plane(y, yStride.toUInt(), 1u),
            u = Plane(uv.copyOfRange(0, uv.size - 1), cStride.toUInt(), 2u),
            v = Plane(uv.copyOfRange(1, uv.size), cStride.toUInt(), 2u),
            colour = f.colour,
        ),
        rotation = 90u,
        mirror = false,
    )
}

/** An encoded photo as iOS `kCVPixelFormatType_32BGRA`, rows padded. */
fun bgra(jpeg: ByteArray, pad: Int): Frame {
    val img = ImageIO.read(jpeg.inputStream())
    val stride = img.width * 4 + pad
    val out = ByteArray(stride * img.height)
    for (yy in 0 until img.height) for (xx in 0 until img.width) {
        val rgb = img.getRGB(xx, yy)
        val at = yy * stride + xx * 4
        out[at] = (rgb and 0xff).toByte()
        out[at + 1] = ((rgb shr 8) and 0xff).toByte()
        out[at + 2] = ((rgb shr 16) and 0xff).toByte()
        out[at + 3] = 0xff.toByte()
    }
    return Frame(Pixels.Bgra8(out, img.width.toUInt(), img.height.toUInt(), stride.toUInt()), 0u, false)
}

// ---- what is compared ------------------------------------------------------

/** Verdict, reason codes, each action's times and the scores, from result JSON. */
class Summary(json: String) {
    private val r = Json.parse(json)
    val verdict = "${r["auth_state"]} reasons=${(r["reasons"] as List<*>).map { it["code"] }}"
    val actions = (r["actions"] as List<*>).map { a ->
        listOf("action", "passed", "prompt_ms", "onset_ms", "at_ms").associateWith { a[it] }
    }
    val scores = listOf("similarity", "quality", "score").associateWith { r[it] }
    override fun toString() = "$verdict actions=$actions"
    override fun equals(other: Any?) = other is Summary && toString() == other.toString()
    override fun hashCode() = toString().hashCode()
}

// ---- the tests -----------------------------------------------------------

val clip = "mauckc_mouth_open"
val localOptions = LocalOptions(
    actions = listOf("mouth_open"),
    promptDelaysMs = listOf(2000uL),
    releaseAtMs = listOf(3000uL),
    optionsJson = null,
)

fun clipFrames(s: Setup): List<Nv21Frame> {
    return Nv21Video.read(File(s.arg("frames")))
}

fun reference(s: Setup) = File(s.data, "actions/$clip/frame_0001.jpg").readBytes()

/**
 * NV21 and sideways padded planes give `realface verify`'s verdict on the
 * same video: the same verdict, reasons and action times (prompt, onset,
 * completion). The two phone layouts give identical results, scores
 * included; the scores differ a little from `realface verify`'s, which
 * turns the video's YUV into RGB with FFmpeg's swscale, not with the
 * library's converter.
 */
fun localSessionMatchesVerify(s: Setup) {
    val frames = clipFrames(s)
    val expected = Summary(File(s.arg("verify-json")).readLines().last())
    check(expected.verdict.startsWith("SUCCESS")) { "realface verify itself: $expected" }
    val asNv21 = Summary(verify(s.engine, reference(s), frames, localOptions).json)
    check(asNv21 == expected) { "NV21: $asNv21\n  verify: $expected" }
    val sideways = Summary(verify(s.engine, reference(s), frames, localOptions) { sidewaysPlanes(it, 24) }.json)
    check(sideways == asNv21 && sideways.scores == asNv21.scores) {
        "YUV_420_888 planes, 90 degrees: $sideways ${sideways.scores}\n  NV21: $asNv21 ${asNv21.scores}"
    }
    println("  ${frames.size} frames (${frames.first().colour}), NV21 = planes = verify: $expected")
    println("  scores: NV21 and planes ${asNv21.scores}, verify ${expected.scores}")
}

/** Two sessions on two threads against one Engine: each gets the verdict one gets alone. */
fun twoThreads(s: Setup) {
    val frames = clipFrames(s)
    val alone = Summary(verify(s.engine, reference(s), frames, localOptions).json)
    val results = arrayOfNulls<Summary>(2)
    val errors = arrayOfNulls<Throwable>(2)
    val threads = (0..1).map { i ->
        Thread {
            try {
                results[i] = Summary(verify(s.engine, reference(s), frames, localOptions).json)
            } catch (e: Throwable) {
                errors[i] = e
            }
        }.also { it.start() }
    }
    threads.forEach { it.join() }
    errors.forEach { e -> check(e == null) { "a thread failed: $e" } }
    results.forEachIndexed { i, r -> check(r == alone) { "thread $i: $r\n  alone: $alone" } }
}

inline fun <reified T : RealfaceException> refused(what: String, code: UInt, call: () -> Unit) {
    try {
        call()
    } catch (e: RealfaceException) {
        check(e is T) { "$what: ${e::class.simpleName} (${e.message}), expected ${T::class.simpleName}" }
        val got = when (e) {
            is RealfaceException.Runtime -> e.code
            is RealfaceException.Input -> e.code
            is RealfaceException.Face -> e.code
            is RealfaceException.Argument -> e.code
            is RealfaceException.Certify -> e.code
            is RealfaceException.Internal -> e.code
        }
        check(got == code) { "$what: code $got (${e.message}), expected $code" }
        println("  $what: ${e.message}")
        return
    }
    throw Failure("$what was accepted")
}

/** Bad input is a typed error with its stable code, never a crash. */
fun typedErrors(s: Setup) {
    val f = clipFrames(s).first()
    val session = LocalSession(s.engine, Reference.Photo(Frame(Pixels.Encoded(reference(s)), 0u, false)), localOptions)
    val good = sidewaysPlanes(f, 8).pixels as Pixels.Yuv420
    refused<RealfaceException.Argument>("wrong-length plane", 400u) {
        session.pushFrame(Frame(good.copy(v = good.v.copy(data = good.v.data.copyOf(10))), 90u, false), 0u)
    }
    refused<RealfaceException.Argument>("zero stride", 400u) {
        session.pushFrame(Frame(good.copy(y = good.y.copy(rowStride = 0u)), 90u, false), 0u)
    }
    refused<RealfaceException.Argument>("rotation 45", 400u) {
        session.pushFrame(Frame(good, 45u, false), 0u)
    }
    refused<RealfaceException.Input>("corrupt photo", 201u) {
        session.pushFrame(Frame(Pixels.Encoded(byteArrayOf(1, 2, 3)), 0u, false), 0u)
    }
    // the session still works after the refusals
    val p = session.pushFrame(Frame(good, 90u, false), 0u)
    check(p.state != State.FINISHED) { "the session ended on refused frames" }
    val dim = s.engine.embed(Frame(Pixels.Encoded(reference(s)), 0u, false)).size
    refused<RealfaceException.Runtime>("NaN reference", 103u) {
        LocalSession(s.engine, Reference.Embedding(List(dim) { Float.NaN }), localOptions)
    }
    refused<RealfaceException.Argument>("unknown matcher", 400u) {
        Engine(EngineOptions(s.arg("models"), emptyList(), s.arg("runtime"), "no_such_matcher"))
    }
    refused<RealfaceException.Argument>("unknown action", 400u) {
        LocalSession(s.engine, Reference.Embedding(List(dim) { 1f }), localOptions.copy(actions = listOf("wave")))
    }
    refused<RealfaceException.Face>("no face in the reference", 300u) {
        s.engine.embed(Frame(Pixels.Rgb8(ByteArray(64 * 64 * 3) { 90 }, 64u, 64u, 192u), 0u, false))
    }
}

/** Engine's own calls: the same person matches, the embedding round-trips. */
fun engineCalls(s: Setup) {
    val a = Frame(Pixels.Encoded(reference(s)), 0u, false)
    val b = Frame(Pixels.Encoded(File(s.data, "actions/$clip/frame_0050.jpg").readBytes()), 0u, false)
    val c = s.engine.compare(a, b)
    check(c.samePerson) { "two frames of one person: $c" }
    val e = s.engine.compareEmbeddings(s.engine.embed(a), s.engine.embed(b))
    check(Math.abs(e.similarity - c.similarity) < 1e-4) { "embeddings $e against photos $c" }
    val q = s.engine.quality(a)
    check(q.score > 0f && q.score <= 100f) { "quality $q" }
    println("  similarity ${"%.3f".format(c.similarity)} (threshold ${"%.3f".format(c.threshold)}), quality ${"%.0f".format(q.score)}")
}

// ---- against a real server -----------------------------------------------

class Server(val bin: String, dir: File) : AutoCloseable {
    val db = File(dir, "kotlin.db").path
    val port = ServerSocket(0).use { it.localPort }
    val base = "http://127.0.0.1:$port"
    val app: String
    val key: String
    private val process: Process
    val http: HttpClient = HttpClient.newHttpClient()

    init {
        val added = Json.parse(run(bin, "app", "add", "--db", db, "--name", "kotlin", "--json"))
        app = added["appId"] as String
        key = added["key"] as String
        run(bin, "deposit", "--db", db, "--app", app, "--amount", "10")
        process = ProcessBuilder(bin, "serve", "--db", db, "--listen", "127.0.0.1:$port",
            "--actions", "turn_left", "--challenge-count", "1")
            .redirectErrorStream(true).redirectOutput(File(dir, "server.log")).start()
        // a server that never answers is stopped here: `use` only closes
        // what was constructed
        try {
            val until = System.currentTimeMillis() + 60_000
            while (true) {
                check(process.isAlive) { "the server exited: ${File(dir, "server.log").readText()}" }
                val up = try { get("/healthz", emptyMap()).statusCode() == 200 } catch (e: java.io.IOException) { false }
                if (up) break
                check(System.currentTimeMillis() < until) { "the server did not listen in 60 s" }
                Thread.sleep(200)
            }
        } catch (e: Throwable) {
            close()
            throw e
        }
    }

    fun get(path: String, headers: Map<String, String>): HttpResponse<String> {
        val b = HttpRequest.newBuilder(URI.create(base + path))
        headers.forEach { (k, v) -> b.header(k, v) }
        return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString())
    }

    fun post(path: String, headers: Map<String, String>, body: ByteArray): HttpResponse<String> {
        val b = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
        headers.forEach { (k, v) -> b.header(k, v) }
        return http.send(b.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString())
    }

    override fun close() {
        process.destroy()
        process.waitFor(10, TimeUnit.SECONDS)
    }

    companion object {
        fun run(vararg cmd: String): String {
            val p = ProcessBuilder(*cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start()
            val out = p.inputStream.bufferedReader().readText()
            check(p.waitFor() == 0) { "${cmd.joinToString(" ")} failed" }
            return out
        }
    }
}

/**
 * The server flow: the backend certifies, the device starts and captures
 * with a CaptureSession built from `start`'s answer, uploads its evidence,
 * and the backend reads the server's verdict. The camera is a person made
 * of a shared clip's real frames who answers each prompt
 * (`realface demo-evidence`, the server quick start's stand-in), given to
 * the session as iOS BGRA frames.
 */
fun captureSessionGetsTheServersVerdict(s: Setup) {
    val work = File(s.arg("work"))
    val person = File(s.data, "actions/apfol_real2")
    Server(s.arg("server"), work).use { srv ->
        val app = mapOf("X-Realface-App" to srv.app, "X-Realface-Key" to srv.key)
        val photo = Base64.getEncoder().encodeToString(File(person, "frame_0001.jpg").readBytes())
        val certify = srv.post("/v1/certify", app,
            """{"realName":"Test","idCard":"11010519491231002X","reference":{"photo":"$photo"}}""".toByteArray())
        check(certify.statusCode() == 200) { "certify: ${certify.statusCode()} ${certify.body()}" }
        val c = Json.parse(certify.body())
        val id = c["certifyId"] as String
        val device = mapOf("X-Realface-Device-Token" to c["deviceToken"] as String)
        val start = srv.post("/v1/certify/$id/start", device, ByteArray(0))
        check(start.statusCode() == 200) { "start: ${start.statusCode()} ${start.body()}" }
        val startFile = File(work, "start.json").also { it.writeText(start.body()) }
        val evFile = File(work, "puppet.json")
        Server.run(s.arg("cli"), "demo-evidence", "--start", startFile.path, "--clip", person.path, "--out", evFile.path)
        val camera = (Json.parse(evFile.readText())["frames"] as List<*>).map {
            Base64.getDecoder().decode(it["jpeg"] as String) to (it["tMs"] as Double).toLong()
        }
        val session = CaptureSession(s.engine, start.body())
        check(session.certifyId() == id) { "certifyId ${session.certifyId()} != $id" }
        val expected = (Json.parse(start.body())["actions"] as List<*>).map { it as String }
        val prompted = LinkedHashSet<String>()
        for ((jpeg, t) in camera) {
            val p = session.pushFrame(bgra(jpeg, 16), t.toULong())
            p.action?.let { prompted.add(it) }
            if (p.state == State.FINISHED) break
        }
        val mine: Verdict = session.finish()
        check(prompted.toList() == expected) { "prompted $prompted, the server's actions $expected" }
        check(mine.authState == "PROCESSING" && mine.clientCode == 0u) {
            "the device's capture: ${mine.authState} ${mine.reasons.map { it.code }}"
        }
        val up = srv.post("/v1/certify/$id/evidence", device, session.evidence())
        check(up.statusCode() == 200 && Json.parse(up.body())["judged"] == true) { "evidence: ${up.statusCode()} ${up.body()}" }
        val result = srv.get("/v1/certify/$id/result?needAlivePhoto=N", app)
        val r = Json.parse(result.body())
        check(r["authState"] == "SUCCESS") { "the server's verdict: ${result.body()}" }
        println("  $id: prompted $prompted, device ${mine.authState}, server ${r["authState"]} (similarity ${r["similarity"]})")
    }
}

fun main(args: Array<String>) {
    val s = try { Setup(args) } catch (e: Throwable) { System.err.println("setup: $e"); exitProcess(1) }
    val tests = listOf(
        "local session: NV21 and sideways planes = realface verify" to ::localSessionMatchesVerify,
        "two sessions on two threads, one Engine" to ::twoThreads,
        "typed errors" to ::typedErrors,
        "engine: compare, embed, quality" to ::engineCalls,
        "capture session against realface-server" to ::captureSessionGetsTheServersVerdict,
    )
    var failed = 0
    for ((name, test) in tests) {
        val t0 = System.nanoTime()
        try {
            test(s)
            println("ok   $name (${(System.nanoTime() - t0) / 1_000_000} ms)")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: ${e.message ?: e}")
            if (e !is Failure) e.printStackTrace()
        }
    }
    println("kotlin: ${tests.size - failed} passed, $failed failed")
    s.engine.close()
    exitProcess(if (failed == 0) 0 else 1)
}
