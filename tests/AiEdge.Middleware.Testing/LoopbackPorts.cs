using System.Net;
using System.Net.Sockets;

namespace AiEdge.Middleware.Testing;

/// <summary>
/// Loopback ports for servers the tests start as processes (redis-server, sentinels, sample apps, Prometheus), reserved
/// across every test process of the machine. A port the kernel hands out for "any free port" is an ephemeral one: the
/// same range outgoing connections draw their local ports from, and free again the moment the listener that found it
/// closes, so two test processes, or a client socket, could take it before the server binds, or while a killed server
/// is down. These ports come from below the ephemeral range instead, and each is held by a lock file (an exclusive
/// <c>flock</c>, released by the kernel even when a test process dies) for as long as its reservation lives.
/// </summary>
public static class LoopbackPorts
{
    // Below Linux's default ephemeral range (32768-60999), above the well-known and most registered service ports.
    private const int First = 20000;
    private const int Last = 32000;

    private static readonly string LockDirectory = Path.Combine(Path.GetTempPath(), "aiedge-test-ports");
    private static readonly List<Reservation> ProcessLifetime = [];

    /// <summary>Reserves a port nothing listens on, until the reservation is disposed.</summary>
    public static Reservation Reserve()
    {
        Directory.CreateDirectory(LockDirectory);
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(First, Last);
            FileStream? lockFile = null;
            try
            {
                lockFile = new FileStream(Path.Combine(LockDirectory, port + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                // Another test process holds it.
                continue;
            }

            if (CanListen(port))
            {
                return new Reservation(port, lockFile);
            }

            lockFile.Dispose();
        }

        throw new InvalidOperationException($"No free loopback port between {First} and {Last} after 1000 tries.");
    }

    /// <summary>Reserves a port for the rest of the test process (for servers whose lifetime no fixture tracks).</summary>
    public static int ReserveForProcess()
    {
        var reservation = Reserve();
        lock (ProcessLifetime)
        {
            ProcessLifetime.Add(reservation);
        }

        return reservation.Port;
    }

    private static bool CanListen(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A reserved port; disposing it lets other tests have it.</summary>
    public sealed class Reservation : IDisposable
    {
        private readonly FileStream _lock;

        internal Reservation(int port, FileStream lockFile)
        {
            Port = port;
            _lock = lockFile;
        }

        /// <summary>Gets the port.</summary>
        public int Port { get; }

        /// <inheritdoc />
        public void Dispose() => _lock.Dispose();
    }
}
