import type { Messages } from './en.ts';

/** Spanish for Latin America (tú, "tarjeta", "vencimiento", "monto"). */
export const es419: Messages = {
  payTo: 'Pagar a {merchant}',
  testMode: 'Modo de prueba',
  orderSummary: 'Resumen del pedido',
  orderSummaryToggle: 'Resumen del pedido ({count, plural, one {# artículo} other {# artículos}})',
  orderReference: 'Pedido {id}',
  quantityTimesPrice: '{quantity} × {unitPrice}',
  subtotal: 'Subtotal',
  discount: 'Descuento',
  tax: 'Impuestos',
  shipping: 'Envío',
  total: 'Total',
  totalDue: 'Total a pagar',
  paymentMethod: 'Método de pago',
  'methods.card.label': 'Tarjeta',
  'methods.card.description': 'Paga con tarjeta de crédito o débito.',
  'methods.invoice.label': 'Factura',
  'methods.invoice.description': 'Paga después. Recibirás una factura.',
  'methods.wallet.label': 'Billetera digital',
  'methods.wallet.description': 'Aprueba el pago en tu billetera digital.',
  acceptedCards: 'Tarjetas aceptadas',
  cardDetails: 'Datos de la tarjeta',
  cardName: 'Nombre en la tarjeta',
  cardNumber: 'Número de tarjeta',
  cardExpiry: 'Vencimiento',
  cardCvc: 'CVC',
  cardCvcHint: '3 dígitos al reverso, o 4 al frente en American Express.',
  saveCard: 'Guardar esta tarjeta para mi próxima compra',
  savedCard: 'Tarjeta guardada, vence {expiry}',
  expiryPlaceholder: 'MM/AA',
  payButton:
    '{method, select, invoice {Confirmar pedido y pagar {amount} con factura} wallet {Continuar a la billetera · {amount}} other {Pagar {amount}}}',
  processing: 'Procesando…',
  cancel: 'Cancelar y volver a la tienda',
  errorSummary: 'Revisa los campos marcados.',
  noMethods:
    'No hay ningún método de pago disponible para este pedido. Vuelve a la tienda para elegir otra forma de pago.',
  securedBy: 'Pago seguro con Kassa',
  'fieldErrors.paymentMethod.required': 'Elige un método de pago.',
  'fieldErrors.paymentMethod.unavailable': 'Este método de pago no está disponible para este pedido.',
  'fieldErrors.cardName.required': 'Ingresa el nombre que aparece en la tarjeta.',
  'fieldErrors.cardName.too_long': 'El nombre es demasiado largo.',
  'fieldErrors.cardNumber.required': 'Ingresa el número de tarjeta.',
  'fieldErrors.cardNumber.invalid': 'El número de tarjeta no es válido.',
  'fieldErrors.cardNumber.unsupported_brand': 'No se acepta este tipo de tarjeta.',
  'fieldErrors.cardExpiry.required': 'Ingresa la fecha de vencimiento.',
  'fieldErrors.cardExpiry.invalid_format': 'Ingresa la fecha como MM/AA.',
  'fieldErrors.cardExpiry.invalid_month': 'El mes debe estar entre 01 y 12.',
  'fieldErrors.cardExpiry.invalid_year': 'El año de vencimiento no es válido.',
  'fieldErrors.cardExpiry.expired': 'Esta tarjeta está vencida.',
  'fieldErrors.cardCvc.required': 'Ingresa el código de seguridad (CVC).',
  'fieldErrors.cardCvc.invalid': 'El código de seguridad no es válido.',
  'globalErrors.declined': 'Tu tarjeta fue rechazada. Inténtalo de nuevo o elige otro método.',
  'globalErrors.insufficient_funds':
    'Tu tarjeta no tiene fondos suficientes. Prueba con otra tarjeta o elige otro método.',
  'globalErrors.authentication_failed':
    'No se pudo verificar tu tarjeta. Inténtalo de nuevo o elige otro método.',
  'globalErrors.wallet_declined':
    'El pago con billetera fue rechazado. Inténtalo de nuevo o elige otro método.',
  'globalErrors.processor_error':
    'No pudimos procesar el pago y no se hizo ningún cargo. Inténtalo de nuevo en unos momentos.',
  'globalErrors.payment_in_progress':
    'Ya hay un pago en curso para este pedido. Espera un momento y vuelve a cargar la página.',
  'globalErrors.form_expired': 'El formulario expiró. Revisa tus datos e inténtalo de nuevo.',
  'globalErrors.order_changed':
    'La tienda actualizó este pedido después de cargar la página. No se hizo ningún cargo: revisa el nuevo total y vuelve a pagar.',
  'globalErrors.too_many_attempts':
    'Demasiados intentos de pago rechazados. No se hizo ningún cargo. Inténtalo más tarde.',
  'globalErrors.verification_refused':
    'La tienda no pudo confirmar este pedido y no se hizo ningún cargo. Vuelve a la tienda.',
  'challenge.bank': 'Banco Sandbox',
  'challenge.heading': 'Confirma tu pago',
  'challenge.intro': 'Tu banco te pide confirmar esta compra.',
  'challenge.merchant': 'Comercio',
  'challenge.amount': 'Monto',
  'challenge.card': 'Tarjeta',
  'challenge.complete': 'Completar autenticación',
  'challenge.fail': 'Hacer fallar la autenticación',
  'challenge.notice': 'Verificación 3-D Secure simulada. No se contacta a ningún banco real.',
  'wallet.name': 'Billetera Sandbox',
  'wallet.heading': '¿Aprobar este pago?',
  'wallet.intro': '{merchant} solicita un pago desde tu billetera.',
  'wallet.merchant': 'Comercio',
  'wallet.amount': 'Monto',
  'wallet.approve': 'Aprobar',
  'wallet.decline': 'Rechazar',
  'wallet.notice': 'Billetera simulada. No se mueve dinero real.',
  'status.expired.title': 'Esta sesión de pago expiró',
  'status.expired.body':
    'Se acabó el tiempo para pagar este pedido y no se hizo ningún cargo. Vuelve a la tienda para empezar de nuevo.',
  'status.canceled.title': 'Pago cancelado',
  'status.canceled.body': 'Cancelaste este pago. No se hizo ningún cargo.',
  'status.completed.title': 'Este pedido está pagado',
  'status.completed.body': '¡Gracias! Recibimos el pago. No tienes que hacer nada más aquí.',
  'status.processing.title': 'Confirmando tu pago',
  'status.processing.body':
    'Estamos confirmando tu pago. Esta página se actualizará sola en un momento. No vuelvas a pagar.',
  'status.pending.title': 'Estamos esperando la confirmación',
  'status.pending.body':
    'Registramos tu pedido y estamos confirmando el pago. La tienda te avisará en cuanto sea definitivo. Puedes cerrar esta página.',
  'status.not_found.title': 'No encontramos esta página',
  'status.not_found.body':
    'No hay ninguna página en esta dirección. Revisa la dirección o vuelve a la tienda.',
  'status.invalid_checkout.title': 'Este enlace de pago no es válido',
  'status.invalid_checkout.body':
    'La dirección de esta página de pago está incompleta o fue modificada. Vuelve a abrir el pago desde la tienda.',
  'status.invalid_payment_link.title': 'Este enlace de pago no es válido',
  'status.invalid_payment_link.body': 'Revisa el enlace que recibiste o pide uno nuevo a la tienda.',
  'link.expired.title': 'Este enlace de pago expiró',
  'link.expired.body':
    'Se acabó el tiempo para pagar con este enlace y no se hizo ningún cargo. Pide un enlace nuevo a la tienda.',
  'link.used.title': 'Este enlace de pago ya se usó',
  'link.used.body':
    'El pago de este enlace ya se realizó, así que no se puede volver a pagar. No tienes que hacer nada más.',
  'link.deactivated.title': 'Este enlace de pago ya no está activo',
  'link.deactivated.body':
    'La tienda desactivó este enlace y no se hizo ningún cargo. Comunícate con la tienda si aún quieres pagar.',
  'link.busy.title': 'Hay un pago en curso con este enlace',
  'link.busy.body':
    'Alguien está pagando con este enlace en este momento. Espera un momento y vuelve a abrir el enlace.',
  'errorPage.title': 'No pudimos finalizar tu pedido',
  'errorPage.body':
    'Algo salió mal al confirmar tu pedido con {merchant}. Guarda estos datos y comunícate con la tienda antes de volver a pagar.',
  'errorPage.paidTitle': 'Tu pago se realizó',
  'errorPage.paidBody':
    'Recibimos el pago, pero no pudimos comunicarnos con {merchant} para confirmar tu pedido. No vuelvas a pagar: guarda el número de pedido y el ID de pago, y comunícate con la tienda si no tienes noticias.',
  orderNumber: 'Número de pedido',
  paymentId: 'ID de pago',
  amount: 'Monto',
  returnToStore: 'Volver a la tienda',
};
