/* A no-op libgupnp-igd-1.0.so.4 for the interop tests.
 *
 * Debian 12's whip-client links libsoup2, while libnice's UPnP helper (gupnp-igd) pulls libsoup3:
 * loading both aborts the process ("libsoup2 symbols detected"). Put first on LD_LIBRARY_PATH of
 * the GStreamer processes, this library replaces gupnp-igd: libnice gets an object that accepts
 * its signal handlers and never maps a port, so no libsoup3 is loaded and no UPnP multicast leaves.
 * It provides exactly the symbols libnice 0.1.21 imports (nm -D --undefined-only libnice.so.10). */
#include <glib-object.h>

typedef struct { GObject parent; } GUPnPSimpleIgd;
typedef struct { GObjectClass parent; } GUPnPSimpleIgdClass;

G_DEFINE_TYPE(GUPnPSimpleIgd, gupnp_simple_igd, G_TYPE_OBJECT)

static void gupnp_simple_igd_class_init(GUPnPSimpleIgdClass *klass) {
  /* The signals libnice connects to; they are never emitted. */
  g_signal_new("mapped-external-port", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
               NULL, G_TYPE_NONE, 0);
  g_signal_new("error-mapping-port", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
               NULL, G_TYPE_NONE, 0);
}

static void gupnp_simple_igd_init(GUPnPSimpleIgd *self) { (void)self; }

GUPnPSimpleIgd *gupnp_simple_igd_thread_new(void) {
  return g_object_new(gupnp_simple_igd_get_type(), NULL);
}

GUPnPSimpleIgd *gupnp_simple_igd_new(void) { return gupnp_simple_igd_thread_new(); }

void gupnp_simple_igd_add_port(GUPnPSimpleIgd *self, const gchar *protocol, guint16 external_port,
                               const gchar *local_ip, guint16 local_port, guint32 lease_duration,
                               const gchar *description) {
  (void)self; (void)protocol; (void)external_port; (void)local_ip; (void)local_port;
  (void)lease_duration; (void)description;
}

void gupnp_simple_igd_remove_port(GUPnPSimpleIgd *self, const gchar *protocol, guint external_port) {
  (void)self; (void)protocol; (void)external_port;
}

void gupnp_simple_igd_remove_port_local(GUPnPSimpleIgd *self, const gchar *protocol,
                                        const gchar *local_ip, guint16 local_port) {
  (void)self; (void)protocol; (void)local_ip; (void)local_port;
}
