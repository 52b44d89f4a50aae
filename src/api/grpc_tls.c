/* The gRPC port's credentials (server.cc BuildServerCredentials): plaintext,
 * or TLS from a text-format SSLConfig (--ssl_config_file) whose fields hold
 * the PEM text of the server key, its certificate chain and, optionally, the
 * CA that client certificates must chain to. client_verify asks for a client
 * certificate and refuses connections without a valid one (mutual TLS). */
#include <grpc/grpc_security.h>
#include <stdlib.h>

#include "api/grpc_internal.h"
#include "base/log.h"
#include "pb/pb.h"
#include "tensorflow_serving/config/ssl_config.pb-c.h"

/* A config holds a few PEM blocks; the cap only stops a wrong path. */
#define MAX_SSL_CONFIG_BYTES ((size_t)16 << 20)

static pl_status read_ssl_config(const char *path, Tensorflow__Serving__SSLConfig **out) {
    ProtobufCMessage *msg;
    PL_TRY(pl_pb_read_text_file(&tensorflow__serving__sslconfig__descriptor, path, MAX_SSL_CONFIG_BYTES, &msg));
    *out = (Tensorflow__Serving__SSLConfig *)msg;
    return NULL;
}

pl_status pl__grpc_credentials(const pl_grpc_options *opt, grpc_server_credentials **out) {
    *out = NULL;
    if (!opt->ssl_config_file || !*opt->ssl_config_file) {
        *out = grpc_insecure_server_credentials_create();
        return NULL;
    }
    Tensorflow__Serving__SSLConfig *c = NULL;
    PL_TRY(read_ssl_config(opt->ssl_config_file, &c));
    pl_log_info("Using SSL credentials");
    pl_status st = NULL;
    if (!c->server_key || !*c->server_key || !c->server_cert || !*c->server_cert) {
        st = pl_error(PL_INVALID_ARGUMENT, "SSLConfig in '%s' needs both server_key and server_cert",
                      opt->ssl_config_file);
    } else {
        grpc_ssl_pem_key_cert_pair pair = {.private_key = c->server_key, .cert_chain = c->server_cert};
        const char *ca = c->custom_ca && *c->custom_ca ? c->custom_ca : NULL;
        /* gRPC copies the PEM strings. */
        *out = grpc_ssl_server_credentials_create_ex(
            ca, &pair, 1,
            c->client_verify ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                             : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            NULL);
        if (!*out) st = pl_error(PL_INVALID_ARGUMENT, "gRPC refused the SSLConfig in '%s'", opt->ssl_config_file);
    }
    protobuf_c_message_free_unpacked(&c->base, NULL);
    return st;
}
