// AES-256-GCM sealing of stored secrets through OpenSSL's EVP interface; see secret_box.hpp.
#include <memory>

#include <openssl/evp.h>

#include <netpulse/core/random.hpp>
#include <netpulse/core/secret_box.hpp>

namespace netpulse::core {

namespace {

constexpr unsigned char kVersion = 0x01;
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Error broken(std::string_view why) {
  return Error(Errc::kInternalError, "sealed secret cannot be opened: " + std::string(why));
}

}  // namespace

SecretBox::SecretBox(std::string key) : key_(std::move(key)) {}

std::string SecretBox::seal(std::string_view plaintext, std::string_view associated_data) const {
  const std::string nonce = random_bytes(kNonceBytes);
  std::string out;
  out.resize(1 + kNonceBytes + plaintext.size() + kTagBytes);
  out[0] = static_cast<char>(kVersion);
  out.replace(1, kNonceBytes, nonce);
  auto* cipher = reinterpret_cast<unsigned char*>(out.data()) + 1 + kNonceBytes;

  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  // Failures here mean a broken OpenSSL (out of memory); sealing cannot continue safely.
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key_), bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), cipher, &len, bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), cipher + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, cipher + plaintext.size()) !=
          1) {
    std::abort();
  }
  return out;
}

Result<std::string> SecretBox::open(std::string_view sealed,
                                    std::string_view associated_data) const {
  if (sealed.size() < 1 + kNonceBytes + kTagBytes) return broken("too short");
  if (static_cast<unsigned char>(sealed[0]) != kVersion) return broken("unknown format version");
  const auto nonce = sealed.substr(1, kNonceBytes);
  const auto cipher = sealed.substr(1 + kNonceBytes, sealed.size() - 1 - kNonceBytes - kTagBytes);
  std::string tag(sealed.substr(sealed.size() - kTagBytes));
  std::string plain(cipher.size(), '\0');

  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key_), bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        bytes(cipher), static_cast<int>(cipher.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    return broken("decryption failed");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len,
                          &final_len) != 1) {
    return broken("wrong key or tampered data");
  }
  return plain;
}

}  // namespace netpulse::core
